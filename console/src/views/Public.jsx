// The pages a customer opens without signing in: the frame (a language switch, a link to the help centre) and
// what the portal and the help centre share. They use `publicApi` (no bearer token).
import { setLanguage, t, useLanguage } from "../i18n.js";

const PICKED = "ticketing.public-language"; // the visitor's own choice on these pages, this tab only
const PORTAL = "ticketing.portal"; // the portal this tab came from: {ticket, token}, so an article can close it

export const pickedLanguage = () => sessionStorage.getItem(PICKED);

// The portal follows the customer's language unless they picked one here.
export function followLanguage(language) {
  if (!pickedLanguage()) setLanguage(language, { keep: false });
}

export const portalVisit = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(PORTAL) || "null");
    } catch {
      return null;
    }
  },
  set(ticket, token) {
    sessionStorage.setItem(PORTAL, JSON.stringify({ ticket, token }));
  },
};

export function PublicFrame({ children, title }) {
  const language = useLanguage();
  const pick = (next) => {
    sessionStorage.setItem(PICKED, next);
    setLanguage(next);
  };
  return (
    <div className="public">
      <header className="public-top">
        <a className="brand" href="#/help">{t("Help centre")}</a>
        <span className="spacer" />
        <label className="inline">
          <span className="sr-only">{t("Language")}</span>
          <select aria-label={t("Language")} name="public-language" value={language} onChange={(e) => pick(e.target.value)}>
            <option value="id">Bahasa Indonesia</option>
            <option value="en">English</option>
          </select>
        </label>
      </header>
      <main className="public-main" aria-label={title}>{children}</main>
    </div>
  );
}

// Plain text as paragraphs: blank lines part them, single line breaks stay (CSS pre-line). Never HTML.
export function Paragraphs({ text }) {
  return (String(text || "").split(/\r?\n\s*\r?\n/).map((part) => part.trim()).filter(Boolean)
    .map((part, i) => <p key={i} className="para">{part}</p>)); // prettier-ignore
}
