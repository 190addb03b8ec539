// Knowledge-base articles (`#/articles`, supervisors): every article with its counts (views, "did this help?",
// requests it closed) and an editor (PUT /v1/articles/{id}; publishing rebuilds the help centre's index).
import { useState } from "react";
import { ApiError, del, put } from "../api.js";
import { t } from "../i18n.js";
import { Field, OtherProblems, csv, fromCsv } from "../parts/forms.jsx";
import { useGet } from "../parts/hooks.js";

const EMPTY = { id: "", title: "", language: "id", category: "", tags: [], status: "draft", body: "" };

export function Articles() {
  const articles = useGet("/v1/articles");
  const [draft, setDraft] = useState(null);
  const [isNew, setIsNew] = useState(false);
  const [tags, setTags] = useState("");
  const [confirm, setConfirm] = useState(false);
  const [state, setState] = useState({ error: null, saved: null });
  const fields = state.error?.fields || {};
  const items = articles.data?.items || [];
  const set = (name, value) => setDraft({ ...draft, [name]: value });
  const edit = (article, fresh) => {
    setDraft({ ...EMPTY, ...article, category: article.category || "" });
    setTags(csv(article.tags));
    setIsNew(fresh);
    setConfirm(false);
    setState({ error: null, saved: null });
  };
  const failed = (problem) => setState({ error: problem instanceof ApiError ? problem : { message: String(problem), fields: {} }, saved: null });

  const save = async (event) => {
    event.preventDefault();
    const body = { title: draft.title, body: draft.body, language: draft.language, category: draft.category.trim() || null,
                   tags: fromCsv(tags), status: draft.status }; // prettier-ignore
    setState({ error: null, saved: null });
    try {
      const saved = await put(`/v1/articles/${encodeURIComponent(draft.id.trim())}`, body);
      edit(saved, false);
      setState({ error: null, saved: saved.status === "published" ? t("Saved and published") : t("Saved as a draft") });
      articles.reload();
    } catch (problem) {
      failed(problem);
    }
  };
  const remove = async () => {
    try {
      await del(`/v1/articles/${encodeURIComponent(draft.id)}`);
      setDraft(null);
      setState({ error: null, saved: t("Article deleted") });
      articles.reload();
    } catch (problem) {
      failed(problem);
    }
  };

  return (
    <section className="page articles" aria-label={t("Articles")}>
      <div className="row">
        <h1>{t("Articles")}</h1>
        <button type="button" onClick={() => edit(EMPTY, true)}>+ {t("New article")}</button>
        <a href="#/help" target="_blank" rel="noopener">{t("Open the help centre")} ↗</a>
      </div>
      {articles.error && <p role="alert" className="error">{articles.error.message}</p>}
      {state.saved && <p role="status" className="notice">{state.saved}</p>}
      <div className="scroll-x">
        <table className="dense" data-testid="articles">
          <thead><tr><th>{t("Title")}</th><th>{t("Language")}</th><th>{t("Status")}</th><th>{t("Views")}</th>
            <th>{t("Helpful")}</th><th>{t("Not helpful")}</th><th>{t("Requests it closed")}</th></tr></thead>
          <tbody>{items.map((a) => (
            <tr key={a.id} data-article={a.id} className={draft?.id === a.id && !isNew ? "selected" : ""}>
              <td className="wrap"><button type="button" className="link" onClick={() => edit(a, false)}>{a.title}</button> <span className="muted small">{a.id}</span></td>
              <td>{a.language === "id" ? "Bahasa Indonesia" : "English"}</td>
              <td><span className={`badge ${a.status}`}>{a.status === "published" ? t("published") : t("draft")}</span></td>
              <td data-testid="views">{a.counts?.views ?? 0}</td><td data-testid="helpful">{a.counts?.helpful ?? 0}</td>
              <td data-testid="not-helpful">{a.counts?.not_helpful ?? 0}</td><td data-testid="deflections">{a.counts?.deflections ?? 0}</td>
            </tr>))}
          </tbody>
        </table>
      </div>
      {articles.data && !items.length && <p className="muted">{t("No articles yet.")}</p>}
      {draft && (
        <form className="editor article-editor" onSubmit={save} aria-label={t("Article")}>
          <OtherProblems error={state.error} shown={["title", "language", "category", "tags", "status", "body"]} />
          <div className="cols">
            <Field label={t("Id")} path="id" fields={fields} hint={isNew ? t("letters, digits and - _ . : (it is in the address)") : null}>
              <input name="article-id" value={draft.id} onChange={(e) => set("id", e.target.value)} required readOnly={!isNew} pattern={"[A-Za-z0-9_.:\\-]+"} />
            </Field>
            <Field label={t("Title")} path="title" fields={fields}>
              <input name="article-title" value={draft.title} maxLength={200} onChange={(e) => set("title", e.target.value)} />
            </Field>
            <Field label={t("Language")} path="language" fields={fields}>
              <select name="article-language" value={draft.language} onChange={(e) => set("language", e.target.value)}>
                <option value="id">Bahasa Indonesia</option>
                <option value="en">English</option>
              </select>
            </Field>
            <Field label={t("Category")} path="category" fields={fields}>
              <input name="article-category" value={draft.category} maxLength={60} onChange={(e) => set("category", e.target.value)} />
            </Field>
            <Field label={t("Tags")} path="tags" fields={fields} hint={t("comma separated")}>
              <input name="article-tags" value={tags} onChange={(e) => setTags(e.target.value)} />
            </Field>
            <Field label={t("Status")} path="status" fields={fields}>
              <select name="article-status" value={draft.status} onChange={(e) => set("status", e.target.value)}>
                <option value="draft">{t("draft")}</option>
                <option value="published">{t("published")}</option>
              </select>
            </Field>
          </div>
          <Field label={t("Text (plain; a blank line starts a new paragraph)")} path="body" fields={fields}>
            <textarea name="article-body" rows={12} value={draft.body} onChange={(e) => set("body", e.target.value)} />
          </Field>
          <div className="row">
            <button type="submit" className="primary">{t("Save article")}</button>
            <button type="button" onClick={() => setDraft(null)}>{t("Cancel")}</button>
            <span className="spacer" />
            {!isNew && draft.status === "published" && <a href={`#/help/${encodeURIComponent(draft.id)}`} target="_blank" rel="noopener">{t("View in the help centre")} ↗</a>}
            {!isNew && (confirm
              ? <><span>{t("Delete this article?")}</span><button type="button" className="danger" onClick={remove}>{t("Yes, delete")}</button>
                  <button type="button" onClick={() => setConfirm(false)}>{t("No")}</button></>
              : <button type="button" onClick={() => setConfirm(true)}>{t("Delete")}</button>)}
          </div>
        </form>
      )}
    </section>
  ); // prettier-ignore
}
