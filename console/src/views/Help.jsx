// The public help centre: `#/help` searches the published articles, `#/help/<id>` shows one as plain text with
// "did this help?". Opened from the customer's portal (`?from=portal`), an article can close their request.
import { useEffect, useState } from "react";
import { publicApi, query } from "../api.js";
import { t, useLanguage } from "../i18n.js";
import { Paragraphs, PublicFrame, portalVisit } from "./Public.jsx";

export function HelpSearch({ initial = "" }) {
  const language = useLanguage();
  const [text, setText] = useState(initial);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const search = async (event) => {
    event?.preventDefault();
    const q = text.trim();
    if (!q) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await publicApi("GET", `/v1/kb/search${query({ q, lang: language, limit: 10 })}`));
    } catch (problem) {
      setError(problem.message);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (initial) search();
  }, []);
  return (
    <PublicFrame title={t("Help centre")}>
      <section className="portal-card">
        <h1>{t("How can we help?")}</h1>
        <form role="search" className="help-search" onSubmit={search}>
          <label className="sr-only" htmlFor="help-q">{t("Search the help centre")}</label>
          <input id="help-q" name="q" type="search" value={text} maxLength={200} onChange={(e) => setText(e.target.value)}
                 placeholder={t("Describe your question, e.g. forgot password")} />
          <button type="submit" className="primary big" disabled={busy || !text.trim()}>{t("Search")}</button>
        </form>
        {error && <p role="alert" className="error">{error}</p>}
      </section>
      {result && (
        <section className="portal-card" aria-label={t("Search results")}>
          {result.items.length === 0 ? <p className="muted">{t("No article matches. Try other words, or write to us.")}</p> : (
            <ol className="plain results" data-testid="results">
              {result.items.map((hit) => (
                <li key={hit.id} data-article={hit.id}>
                  <a href={`#/help/${encodeURIComponent(hit.id)}`} className="result-title">{hit.title}</a>
                  <p className="small">{hit.summary}</p>
                  <span className="muted small">{hit.language === "id" ? "Bahasa Indonesia" : "English"}{hit.category ? ` · ${hit.category}` : ""}</span>
                </li>
              ))}
            </ol>
          )}
        </section>
      )}
    </PublicFrame>
  ); // prettier-ignore
}

export function HelpArticle({ id, fromPortal }) {
  useLanguage();
  const [article, setArticle] = useState(null);
  const [error, setError] = useState(null);
  const [voted, setVoted] = useState(false);
  const [closed, setClosed] = useState(null);
  const [problem, setProblem] = useState(null);
  const visit = fromPortal ? portalVisit.get() : null;

  useEffect(() => {
    let live = true;
    setArticle(null);
    publicApi("GET", `/v1/kb/articles/${encodeURIComponent(id)}`)
      .then((found) => live && setArticle(found))
      .catch((failure) => live && setError(failure));
    return () => { live = false; };
  }, [id]); // prettier-ignore

  const vote = async (helpful) => {
    setProblem(null);
    try {
      await publicApi("POST", `/v1/kb/articles/${encodeURIComponent(id)}/feedback`, { body: { helpful } });
      setVoted(true);
    } catch (failure) {
      setProblem(failure.message);
    }
  };
  const closeRequest = async () => {
    setProblem(null);
    try {
      await publicApi("POST", `/v1/portal/tickets/${visit.ticket}/solved`, { headers: { "X-Portal-Token": visit.token }, body: { article: id } });
      setClosed(true);
    } catch (failure) {
      setProblem(failure.message);
    }
  };

  if (error) {
    return (
      <PublicFrame title={t("Help centre")}>
        <section className="portal-card" role="alert">
          <h1>{error.status === 404 ? t("This article is not available.") : t("Something went wrong. Please try again later.")}</h1>
          <p><a href="#/help">{t("Search the help centre")}</a></p>
        </section>
      </PublicFrame>
    );
  }
  if (!article) return <PublicFrame title={t("Help centre")}><p className="muted">{t("loading…")}</p></PublicFrame>;
  return (
    <PublicFrame title={t("Help centre")}>
      <article className="portal-card help-article" lang={article.language}>
        <p className="small"><a href="#/help">← {t("Help centre")}</a>{article.category ? ` · ${article.category}` : ""}</p>
        <h1>{article.title}</h1>
        <Paragraphs text={article.body} />
      </article>
      <section className="portal-card" aria-labelledby="helped-title">
        {voted ? <p role="status" className="notice" data-testid="feedback-thanks">{t("Thank you for telling us.")}</p> : (
          <div className="row">
            <h2 id="helped-title" className="inline-title">{t("Did this help?")}</h2>
            <button type="button" className="big" onClick={() => vote(true)}>{t("Yes")}</button>
            <button type="button" className="big" onClick={() => vote(false)}>{t("No")}</button>
          </div>
        )}
        {visit && !closed && (
          <button type="button" className="primary big" onClick={closeRequest}>{t("This answered my question — close my request")}</button>
        )}
        {closed && (
          <p role="status" className="notice">{t("Your request is closed. We are glad the article helped.")}{" "}
            <button type="button" className="link" onClick={() => { window.location.hash = `#/portal/${visit.ticket}/${visit.token}/rate`; }}>
              {t("Rate our help")}</button></p>
        )}
        {problem && <p role="alert" className="error">{problem}</p>}
      </section>
    </PublicFrame>
  ); // prettier-ignore
}
