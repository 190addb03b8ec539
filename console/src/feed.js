// The caller's tickets, kept live: one full load in pages, then `GET /v1/tickets?updated_since=` every few
// seconds (docs/desk.md: poll from the greatest changed_at seen minus a 5 s clock-skew margin, keep the copy with
// the greatest changed_at). Folder counts come from the maintained counters, refreshed when something changed.
import { get, query } from "./api.js";
import { useSyncExternalStore } from "react";

const PAGE = 100;
const MAX_LOADED = 5000;
const SKEW_MS = 5000;
export const POLL_MS = 2000;
const HIDDEN_POLL_MS = 30000;

function createFeed() {
  let state = { tickets: new Map(), folders: [], loaded: false, loading: true, error: null, version: 0, polledAt: null };
  let watermark = null;
  let timer = null;
  let running = false;
  let inFlight = false;
  let generation = 0;
  const listeners = new Set();

  const emit = (changes) => {
    state = { ...state, ...changes, version: state.version + 1 };
    listeners.forEach((listener) => listener());
  };

  const absorb = (items) => {
    let changed = false;
    const tickets = new Map(state.tickets);
    for (const ticket of items) {
      const known = tickets.get(ticket.id);
      if (!known || (ticket.changed_at || "") >= (known.changed_at || "")) {
        tickets.set(ticket.id, known ? { ...known, ...ticket } : ticket);
        changed = true;
      }
      if (!watermark || (ticket.changed_at || "") > watermark) watermark = ticket.changed_at;
    }
    return changed ? tickets : null;
  };

  async function pages(params, onPage) {
    const found = [];
    let cursor = null;
    do {
      const page = await get(`/v1/tickets${query({ ...params, limit: PAGE, cursor })}`);
      found.push(...page.items);
      if (onPage) onPage(page.items);
      cursor = page.next_cursor;
    } while (cursor && found.length < MAX_LOADED);
    return found;
  }

  async function refreshFolders() {
    const folders = await get("/v1/folders");
    emit({ folders: folders.items });
  }

  async function load() {
    const started = performance.now();
    const startedAt = new Date(Date.now() - SKEW_MS).toISOString();
    // Each page shows as it arrives: the first hundred are on screen while the rest load.
    const folders = refreshFolders();
    const session = generation;
    await pages({}, (items) => session === generation && emit({ tickets: absorb(items) || state.tickets, loaded: true, error: null }));
    if (session !== generation) return;
    watermark = startedAt;
    emit({ loading: false, loadMs: performance.now() - started });
    await folders;
  }

  async function poll() {
    if (!running || inFlight) return;
    inFlight = true;
    const session = generation;
    try {
      const since = new Date(Date.parse(watermark) - SKEW_MS).toISOString();
      const found = await pages({ updated_since: since });
      if (session !== generation) return; // signed out (or in as someone else) meanwhile: not this session's
      const tickets = absorb(found);
      if (tickets) {
        emit({ tickets, error: null, polledAt: Date.now() });
        await refreshFolders();
      } else {
        emit({ error: null, polledAt: Date.now() });
      }
    } catch (error) {
      emit({ error: error.message });
    } finally {
      inFlight = false;
      // A tab in the background polls rarely; coming back to it polls at once.
      clearTimeout(timer);
      if (running) timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (running && !inFlight && !document.hidden) {
      clearTimeout(timer);
      timer = setTimeout(poll, 0);
    }
  });

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: () => state,
    async start() {
      if (running) return;
      running = true;
      try {
        await load();
      } catch (error) {
        emit({ error: error.message, loaded: true });
      }
      timer = setTimeout(poll, POLL_MS);
    },
    stop() {
      running = false;
      generation += 1;
      clearTimeout(timer);
      watermark = null;
      state = { tickets: new Map(), folders: [], loaded: false, loading: true, error: null, version: 0, polledAt: null };
    },
    // A ticket the console itself just changed: shown at once, before the next poll brings it.
    put(ticket) {
      const tickets = absorb([ticket]);
      if (tickets) emit({ tickets });
      refreshFolders().catch(() => {});
    },
  };
}

export const feed = createFeed();

export function useFeed() {
  return useSyncExternalStore(feed.subscribe, feed.snapshot);
}
