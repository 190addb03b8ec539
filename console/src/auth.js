// Signing in. Locally the stack alone offers a dev sign-in (`/local/session`: pick an agent, get a token signed
// with the stack's key). Deployed, /console-config.json names the Cognito hosted UI: authorization code with PKCE;
// the code comes back in the query string once, is exchanged for tokens and removed from the address at once.

const VERIFIER_KEY = "ticketing.pkce";

export async function consoleConfig() {
  const response = await fetch("/console-config.json", { headers: { Accept: "application/json" } });
  if (!response.ok) return { sign_in: "dev" };
  return response.json();
}

export async function devAgents() {
  const response = await fetch("/local/session", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`dev sign-in is not offered here (HTTP ${response.status})`);
  return response.json();
}

export async function devSignIn(agent, role, teams) {
  const response = await fetch("/local/session", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ agent, role, teams }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  return body; // {token, role, agent, teams, expires_at}
}

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export async function cognitoRedirect(config) {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    response_type: "code", client_id: config.client_id, redirect_uri: config.redirect_uri,
    scope: "openid email profile", code_challenge_method: "S256", code_challenge: challenge,
  }); // prettier-ignore
  window.location.assign(`${config.domain}/oauth2/authorize?${params}`);
}

function claims(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
}

export async function cognitoFinish(config) {
  const code = new URLSearchParams(window.location.search).get("code");
  if (!code) return null;
  window.history.replaceState(null, "", window.location.pathname + window.location.hash);
  const response = await fetch(`${config.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: config.client_id, code, redirect_uri: config.redirect_uri,
      code_verifier: sessionStorage.getItem(VERIFIER_KEY) || "",
    }), // prettier-ignore
  });
  sessionStorage.removeItem(VERIFIER_KEY);
  if (!response.ok) throw new Error(`sign-in failed (HTTP ${response.status})`);
  const tokens = await response.json();
  const seen = claims(tokens.id_token);
  const groups = seen["cognito:groups"] || [];
  const role = ["admin", "supervisor", "agent"].find((name) => groups.includes(name)) || "agent";
  return {
    token: tokens.id_token, role, agent: seen["custom:agent_id"] || seen["cognito:username"],
    teams: (seen["custom:teams"] || "").split(",").filter(Boolean),
    expires_at: new Date(seen.exp * 1000).toISOString(),
  }; // prettier-ignore
}
