// UI text in English and Indonesian, gettext style: the English wording is the key, `ID` holds its Indonesian.
// The choice is kept per browser; a missing Indonesian entry falls back to English (tests check there is none).
import { useSyncExternalStore } from "react";
import { ID } from "./i18n-id.js";

const LANGUAGE_KEY = "ticketing.language";
const listeners = new Set();

export const chosenLanguage = () => localStorage.getItem(LANGUAGE_KEY);

function initial() {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved === "en" || saved === "id") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("id") ? "id" : "en";
}

let language = initial();

// `keep: false` switches for this page only (the portal following the customer's language) without changing
// the browser's choice.
export function setLanguage(next, { keep = true } = {}) {
  if (next !== "en" && next !== "id") return;
  language = next;
  if (keep) localStorage.setItem(LANGUAGE_KEY, next);
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener());
}

export function useLanguage() {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => language,
  );
}

export function t(text, values) {
  const wording = (language === "id" && ID[text]) || text;
  if (!values) return wording;
  return wording.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

export const locale = () => (language === "id" ? "id-ID" : "en-GB");

document.documentElement.lang = language;
