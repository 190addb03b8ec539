import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement,
         PointElement, Tooltip } from "chart.js"; // prettier-ignore

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

// A Chart.js chart that follows its props: created once, its data replaced on every change (no flicker).
export function ChartBox({ type, labels, datasets, options, label, height = 220 }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type,
      data: { labels, datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, ...options },
    });
    return () => chart.current.destroy();
  }, [type]);
  useEffect(() => {
    chart.current.data.labels = labels;
    chart.current.data.datasets = datasets;
    chart.current.update();
  }, [JSON.stringify(labels), JSON.stringify(datasets)]);
  return (
    <div className="chart" style={{ height }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
