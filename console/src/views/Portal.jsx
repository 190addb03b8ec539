// The customer's portal (`#/portal/<ticket id>/<token>`, `.../rate`): their request's status and public thread, a
// reply box, articles that may answer it, and the rating once it is resolved. No sign-in: the token from the link
// in our message travels only in the X-Portal-Token header (never stored, never in another URL).
import { useEffect, useRef, useState } from "react";
import { publicApi } from "../api.js";
import { when } from "../format.js";
import { t, useLanguage } from "../i18n.js";
import { PublicFrame, followLanguage, portalVisit } from "./Public.jsx";

export const customerStatus = (status) =>
  ({ triage: t("Received"), open: t("Received"), in_progress: t("We are working on it"),
     pending: t("Waiting for your reply"), resolved: t("Resolved"), closed: t("Closed") })[status] || status; // prettier-ignore

const FROM = { you: "You", support: "Support", automatic: "Automatic" };
const SCORES = [
  [1, "Very unhappy"], [2, "Unhappy"], [3, "Neutral"], [4, "Happy"], [5, "Very happy"],
]; // prettier-ignore

function Thread({ messages }) {
  return (
    <ol className="portal-thread" aria-label={t("Messages")}>
      {messages.map((m) => (
        <li key={m.id} className={`pmsg ${m.from}`} data-from={m.from}>
          <div className="pmsg-head">
            <strong>{t(FROM[m.from] || m.from)}</strong>
            {m.name && <span> · {m.name}</span>}
            <span className="muted small"> · {when(m.at)}</span>
          </div>
          <div className="body">{m.body}</div>
        </li>
      ))}
    </ol>
  );
}

function Rating({ ticketId, headers, focus, onRated }) {
  const [score, setScore] = useState(null);
  const [comment, setComment] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  useEffect(() => {
    if (focus && form.current) {
      form.current.scrollIntoView({ block: "start" });
      form.current.querySelector("input")?.focus({ preventScroll: true });
    }
  }, [focus]);
  const submit = async (event) => {
    event.preventDefault();
    if (!score) return;
    setBusy(true);
    setError(null);
    try {
      const rating = await publicApi("POST", `/v1/portal/tickets/${ticketId}/csat`, { headers, body: { score, comment: comment.trim() || null } });
      onRated(rating);
    } catch (problem) {
      setError(problem.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form ref={form} className="portal-card rating" id="rate" onSubmit={submit} aria-labelledby="rate-title">
      <h2 id="rate-title">{t("How did we do?")}</h2>
      <fieldset className="scores">
        <legend>{t("Your rating, from 1 (very unhappy) to 5 (very happy)")}</legend>
        {SCORES.map(([n, word]) => (
          <label key={n} className={score === n ? "score on" : "score"}>
            <input type="radio" name="score" value={n} checked={score === n} onChange={() => setScore(n)}
                   aria-label={t("{n} of 5: {word}", { n, word: t(word) })} />
            <span className="score-n" aria-hidden="true">{n}</span>
            <span className="score-word" aria-hidden="true">{t(word)}</span>
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span className="label">{t("Anything you want to tell us? (optional)")}</span>
        <textarea name="comment" rows={3} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      <button type="submit" className="primary big" disabled={busy || !score}>{t("Send rating")}</button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  ); // prettier-ignore
}

export function Portal({ ticketId, token, rate }) {
  useLanguage();
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [round, setRound] = useState(0);
  const [reply, setReply] = useState("");
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const [problem, setProblem] = useState(null);
  const [thanked, setThanked] = useState(false);
  const headers = { "X-Portal-Token": token };

  useEffect(() => {
    let live = true;
    publicApi("GET", `/v1/portal/tickets/${encodeURIComponent(ticketId)}`, { headers })
      .then((found) => {
        if (!live) return;
        setData(found);
        setError(null);
        followLanguage(found.language);
        portalVisit.set(ticketId, token);
      })
      .catch((failure) => live && setError(failure));
    return () => { live = false; };
  }, [ticketId, token, round]); // prettier-ignore
  const reload = () => setRound((n) => n + 1);

  const act = async (work, done) => {
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      await work();
      setNotice(done);
      reload();
    } catch (failure) {
      setProblem(failure.message);
    } finally {
      setBusy(false);
    }
  };
  const send = (event) => {
    event.preventDefault();
    if (!reply.trim()) return;
    act(async () => {
      await publicApi("POST", `/v1/portal/tickets/${ticketId}/replies`, { headers, body: { body: reply } });
      setReply("");
    }, t("Your message was added to your request."));
  };
  const solved = (article) => act(() => publicApi("POST", `/v1/portal/tickets/${ticketId}/solved`, { headers, body: { article } }),
    t("Your request is closed. We are glad the article helped.")); // prettier-ignore

  if (error) {
    const link = error.status === 401 || error.status === 403;
    return (
      <PublicFrame title={t("Your request")}>
        <section className="portal-card" role="alert">
          <h1>{link ? t("This link is not valid or has expired — open the link in our latest message.") : t("Something went wrong. Please try again later.")}</h1>
          <p className="muted">{error.message}</p>
        </section>
      </PublicFrame>
    );
  }
  if (!data) return <PublicFrame title={t("Your request")}><p className="muted">{t("loading…")}</p></PublicFrame>;
  const articles = data.suggested_articles || [];
  return (
    <PublicFrame title={t("Your request")}>
      <section className="portal-card" aria-labelledby="portal-title">
        <p className="muted small">{t("Your request")} <span className="ref">{data.ref}</span></p>
        <h1 id="portal-title">{data.subject || t("(no subject)")}</h1>
        <p className="portal-status">{t("Status")}: <strong className={`status ${data.status}`} data-testid="portal-status">{customerStatus(data.status)}</strong></p>
        {data.merged_into_ref && <p className="notice">{t("This request was merged into {ref}.", { ref: data.merged_into_ref })}</p>}
      </section>
      {notice && <p role="status" className="notice portal-notice">{notice}</p>}
      {problem && <p role="alert" className="error portal-notice">{problem}</p>}
      {thanked && <p role="status" className="notice portal-notice" data-testid="thanks">{t("Thank you for your rating!")}</p>}
      {data.csat && <p className="portal-card rated" data-testid="rated">{t("You rated this {n}/5", { n: data.csat.score })}</p>}
      {data.can_rate && <Rating ticketId={ticketId} headers={headers} focus={rate} onRated={() => { setThanked(true); reload(); }} />}
      {articles.length > 0 && (
        <section className="portal-card" aria-labelledby="articles-title">
          <h2 id="articles-title">{t("These articles may answer your question")}</h2>
          <ul className="plain articles">
            {articles.map((a) => (
              <li key={a.id}>
                <a href={`#/help/${encodeURIComponent(a.id)}?from=portal`}>{a.title}</a>
                {a.summary && <p className="muted small">{a.summary}</p>}
                <button type="button" className="big" disabled={busy} onClick={() => solved(a.id)}>{t("This answered my question — close my request")}</button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="portal-card" aria-labelledby="thread-title">
        <h2 id="thread-title">{t("Messages")}</h2>
        <Thread messages={data.messages || []} />
      </section>
      {data.can_reply && (
        <form className="portal-card" onSubmit={send} aria-labelledby="reply-title">
          <h2 id="reply-title">{t("Add a message")}</h2>
          <label className="sr-only" htmlFor="portal-reply">{t("Your message")}</label>
          <textarea id="portal-reply" name="reply" rows={4} maxLength={20000} value={reply} onChange={(e) => setReply(e.target.value)}
                    placeholder={t("Write to us; we reply by email too")} />
          <button type="submit" className="primary big" disabled={busy || !reply.trim()}>{t("Send message")}</button>
        </form>
      )}
    </PublicFrame>
  ); // prettier-ignore
}
