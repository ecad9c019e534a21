// Stats: totals of what this console received, and events per second by severity over the last five minutes
// (uPlot, bundled; its canvas and the CSSOM styles it sets are allowed by the strict CSP, no inline style markup).
import uPlot from "uplot";

const SECONDS = 300;
const SEVERITY_ORDER = ["critical", "error", "warning", "info"] as const;
const COLORS: Record<string, string> = { critical: "#b42318", error: "#f04438", warning: "#f79009", info: "#667085" };

export class StatsPanel {
  /** Per-second counts, indexed by severity, for the seconds [#start, #start + SECONDS). */
  #buckets = new Map<number, Record<string, number>>();
  #received = 0;
  #bySeverity: Record<string, number> = { critical: 0, error: 0, warning: 0, info: 0 };
  #skipped = 0;
  #alerts = 0;
  #chart: uPlot | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly button: HTMLElement, private readonly panel: HTMLElement, private readonly totals: HTMLElement, private readonly chartHost: HTMLElement, private readonly now: () => number = Date.now) {}

  get open(): boolean {
    return !this.panel.hidden;
  }

  /** Counts an event as it arrives live. */
  event(severity: string): void {
    this.#received++;
    this.#bySeverity[severity] = (this.#bySeverity[severity] ?? 0) + 1;
    const second = Math.floor(this.now() / 1000);
    let bucket = this.#buckets.get(second);
    if (!bucket) {
      bucket = { critical: 0, error: 0, warning: 0, info: 0 };
      this.#buckets.set(second, bucket);
      // Keep the window bounded: a second older than the chart shows is forgotten when a new one starts.
      for (const key of this.#buckets.keys()) {
        if (key <= second - SECONDS) this.#buckets.delete(key);
      }
    }

    bucket[severity] = (bucket[severity] ?? 0) + 1;
  }

  gap(from: number, to: number): void {
    this.#skipped += to - from + 1;
  }

  alert(): void {
    this.#alerts++;
  }

  clear(): void {
    this.#buckets.clear();
    this.#received = 0;
    this.#bySeverity = { critical: 0, error: 0, warning: 0, info: 0 };
    this.#skipped = 0;
    this.#alerts = 0;
    this.toggle(false);
  }

  toggle(open = !this.open): void {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }

    if (open) {
      this.#render();
      this.#timer = setInterval(() => this.#render(), 1000);
    }
  }

  /** The rate series: x in seconds, one y array per severity. */
  series(): [number[], ...number[][]] {
    const last = Math.floor(this.now() / 1000);
    const xs: number[] = [];
    const ys = SEVERITY_ORDER.map(() => [] as number[]);
    for (let second = last - SECONDS + 1; second <= last; second++) {
      xs.push(second);
      const bucket = this.#buckets.get(second);
      SEVERITY_ORDER.forEach((severity, i) => ys[i]!.push(bucket?.[severity] ?? 0));
    }

    return [xs, ...ys];
  }

  #render(): void {
    const data = this.series();
    const lastMinute = data.slice(1).reduce((sum, ys) => sum + ys.slice(-60).reduce((a, b) => a + b, 0), 0);
    const items: Array<[string, string, string]> = [
      ["received", this.#received.toLocaleString("en"), "events received live by this console (after its filters)"],
      ...SEVERITY_ORDER.map((s): [string, string, string] => [s, (this.#bySeverity[s] ?? 0).toLocaleString("en"), `${s} events received`]),
      ["last minute", `${(lastMinute / 60).toFixed(1)}/s`, "mean events per second over the last 60 s"],
      ["skipped", this.#skipped.toLocaleString("en"), "seqs the server did not send (gaps: rate limited); they are in the ledger"],
      ["alerts", this.#alerts.toLocaleString("en"), "alerts received"],
    ];
    this.totals.replaceChildren(...items.flatMap(([name, value, title]) => {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.total = name;
      dd.title = title;
      return [dt, dd];
    }));

    if (!this.#chart) {
      this.#chart = new uPlot({
        width: Math.max(320, this.chartHost.clientWidth || 640),
        height: 160,
        legend: { show: true },
        cursor: { show: true },
        scales: { x: { time: true } },
        axes: [{ stroke: "currentColor" }, { stroke: "currentColor", label: "events/s" }],
        series: [{}, ...SEVERITY_ORDER.map((severity) => ({ label: severity, stroke: COLORS[severity], width: 1.5 }))],
      }, data, this.chartHost);
    } else {
      this.#chart.setSize({ width: Math.max(320, this.chartHost.clientWidth || 640), height: 160 });
      this.#chart.setData(data);
    }
  }
}
