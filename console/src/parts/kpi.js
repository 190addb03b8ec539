// How the KPIs of GET /v1/metrics/summary and the goals read: their names, and their values in their unit
// (durations as the rest of the console writes them, rates in %, CSAT out of 5).
import { duration } from "../format.js";
import { locale, t } from "../i18n.js";

export const KPI_LABELS = () => ({
  volume: t("New tickets"), resolved: t("Resolved tickets"), response_rate: t("Answered"),
  first_response_median: t("First response, median"), first_response_p90: t("First response, 90th percentile"),
  first_response_count: t("First responses measured"), resolution_median: t("Resolution, median"),
  resolution_p90: t("Resolution, 90th percentile"), resolution_count: t("Resolutions measured"),
  sla_compliance: t("SLA compliance"), sla_measured: t("SLA targets measured"), csat_average: t("CSAT average"),
  csat_responses: t("CSAT responses"), csat_distribution: t("CSAT scores 1–5"), csat_response_rate: t("Survey response rate"),
  deflected: t("Answered by an article"), deflection_rate: t("Deflection rate"), escalations: t("Escalations"),
  backlog: t("Backlog at the end"), backlog_age_average: t("Backlog age, average"),
  backlog_at_start: t("Backlog at the start"), backlog_change: t("Backlog change"),
}); // prettier-ignore

export const kpiLabel = (name) => KPI_LABELS()[name] || name.replaceAll("_", " ");

const DURATIONS = new Set(["first_response_median", "first_response_p90", "resolution_median", "resolution_p90", "backlog_age_average"]);
const RATES = new Set(["response_rate", "sla_compliance", "csat_response_rate", "deflection_rate"]);

export const unitOf = (name) => (DURATIONS.has(name) ? "duration" : RATES.has(name) ? "rate" : name === "csat_average" ? "csat" : "count");

const number = (value, digits = 1) => Number(value).toLocaleString(locale(), { maximumFractionDigits: digits });

// A value in the KPI's unit; null (nothing measured) is a dash.
export function formatKpi(name, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}★ ${v}`).join(" · ");
  switch (unitOf(name)) {
    case "duration": return duration(value);
    case "rate": return `${number(value)} %`;
    case "csat": return `${number(value, 2)} / 5`;
    default: return number(value, 2);
  }
}

// A change with its sign, in the KPI's unit (rates move in points).
export function formatChange(name, change) {
  if (change === null || change === undefined) return "";
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  const size = Math.abs(change);
  switch (unitOf(name)) {
    case "duration": return `${sign}${duration(size)}`;
    case "rate": return `${sign}${number(size)} ${t("pts")}`;
    default: return `${sign}${number(size, 2)}`;
  }
}

export const FLAG_LABELS = () => ({ act: t("Worth acting on"), improved: t("Improved"), too_few: t("Too few to judge") });

export const GOAL_METRICS = ["sla_compliance", "csat_average", "csat_response_rate", "first_response_median", "first_response_p90",
  "resolution_median", "resolution_p90", "deflection_rate", "volume", "escalations"]; // prettier-ignore
