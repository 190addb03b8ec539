import { useEffect, useState } from "react";
import { get } from "../api.js";

// The current time, ticking: countdowns re-render every `ms` without asking the API anything.
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

// One GET, re-run when `key` changes (or every `every` ms); {data, error, reload}.
export function useGet(path, { every = 0, key = "" } = {}) {
  const [state, setState] = useState({ data: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    get(path)
      .then((data) => live && setState({ data, error: null }))
      .catch((error) => live && setState((old) => ({ data: old.data, error })));
    const timer = every ? setTimeout(() => setRound((n) => n + 1), every) : null;
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [path, key, round, every]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}
