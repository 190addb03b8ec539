import { useEffect, useState } from "react";
import { session } from "../api.js";
import { cognitoFinish, cognitoRedirect, consoleConfig, devAgents, devSignIn } from "../auth.js";
import { setLanguage, t, useLanguage } from "../i18n.js";

export function SignIn() {
  const language = useLanguage();
  const [config, setConfig] = useState(null);
  const [offer, setOffer] = useState({ agents: [], teams: [] });
  const [agent, setAgent] = useState("");
  const [role, setRole] = useState("agent");
  const [teamsText, setTeamsText] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    consoleConfig()
      .then(async (found) => {
        setConfig(found);
        if (found.sign_in === "cognito") {
          const signedIn = await cognitoFinish(found.cognito);
          if (signedIn) session.set(signedIn);
        } else {
          setOffer(await devAgents());
        }
      })
      .catch((problem) => setError(problem.message));
  }, []);

  const pick = (id) => {
    setAgent(id);
    const known = offer.agents.find((a) => a.id === id);
    if (known) setTeamsText(known.team);
  };

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      session.set(await devSignIn(agent.trim() || null, role, teams));
    } catch (problem) {
      setError(problem.message);
    } finally {
      setBusy(false);
    }
  };

  const teams = teamsText.split(",").map((x) => x.trim()).filter(Boolean);
  const allTeams = [...(offer.teams || [])].sort();
  return (
    <div className="signin">
      <form className="card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">{t("Support console")}</h1>
        <label>
          {t("Language")}
          <select value={language} onChange={(e) => setLanguage(e.target.value)}>
            <option value="en">English</option>
            <option value="id">Bahasa Indonesia</option>
          </select>
        </label>
        {config?.sign_in === "cognito" ? (
          <button type="button" className="primary" onClick={() => cognitoRedirect(config.cognito)}>
            {t("Sign in with your company account")}
          </button>
        ) : (
          <>
            <p className="hint">{t("Local stack: pick who you are. Deployed, this is your company sign-in.")}</p>
            <label>
              {t("Agent")}
              <select name="agent" value={agent} onChange={(e) => pick(e.target.value)}>
                <option value="">{t("— choose —")}</option>
                {offer.agents.map((a) => (
                  <option key={a.id} value={a.id}>{a.name ? `${a.name} (${a.id})` : a.id} · {a.team}</option>
                ))}
              </select>
            </label>
            <label>
              {t("or another agent id")}
              <input name="agent-id" value={agent} onChange={(e) => setAgent(e.target.value)} autoComplete="off" />
            </label>
            <label>
              {t("Role")}
              <select name="role" value={role} onChange={(e) => setRole(e.target.value)}>
                <option value="agent">{t("agent")}</option>
                <option value="supervisor">{t("supervisor")}</option>
                <option value="admin">{t("admin")}</option>
              </select>
            </label>
            <label>
              {t("Teams")}
              <input name="teams" value={teamsText} list="known-teams" autoComplete="off" placeholder="support"
                     onChange={(e) => setTeamsText(e.target.value)} />
              <datalist id="known-teams">{allTeams.map((team) => <option key={team} value={team} />)}</datalist>
              <span className="hint">{t("comma separated; known: {teams}", { teams: allTeams.join(", ") })}</span>
            </label>
            <button type="submit" className="primary" disabled={busy || (!agent.trim() && role !== "admin")}>
              {t("Sign in")}
            </button>
          </>
        )}
        {error && <p role="alert" className="error">{error}</p>}
      </form>
    </div>
  );
}
