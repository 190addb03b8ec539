import DOMPurify from "dompurify";

// A message body is shown as text; where a message carries HTML it goes through DOMPurify first (no scripts, no
// event handlers, no forms, no remote images until the agent asks). Nothing from a customer is inserted raw.
const POLICY = { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input", "img"], FORBID_ATTR: ["style"] };

export function Body({ text, html }) {
  if (html) {
    return <div className="body html" dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(html, POLICY) }} />;
  }
  return <div className="body">{text}</div>;
}
