// The alerts panel: security, compliance and system alerts as the role receives them (DESIGN.md §5), newest first; an
// `alert.resolved` marks the open alert of the same rule and group as resolved. Roles that receive no alerts (auditor,
// user) get no panel at all.
import type { Alert } from "../../js/src/types.js";

/** The roles that receive at least one kind of alert. */
const ALERT_ROLES = new Set(["admin", "security", "compliance", "operator"]);
const MAX_ALERTS = 200;

interface Shown {
  message: Alert;
  resolvedBy: number | null;
}

export class AlertsPanel {
  #alerts: Shown[] = [];

  constructor(private readonly panel: HTMLElement, private readonly list: HTMLElement, private readonly title: HTMLElement, private readonly onSeq: (seq: number) => void) {}

  /** Shows or hides the panel for the role the server connected the stream as. */
  forRole(role: string): void {
    this.panel.hidden = !ALERT_ROLES.has(role);
  }

  clear(): void {
    this.#alerts = [];
    this.panel.hidden = true;
    this.#render();
  }

  add(message: Alert): void {
    if (this.#alerts.some((a) => a.message.seq === message.seq)) {
      return;
    }

    const alert = message.alert;
    if (alert.type === "alert.resolved") {
      const open = this.#alerts.find((a) => a.resolvedBy === null && a.message.alert.type !== "alert.resolved"
        && a.message.alert.rule === alert.rule && a.message.alert.group_key === alert.group_key && a.message.alert.tenant_id === alert.tenant_id);
      if (open) {
        open.resolvedBy = message.seq;
      }
    }

    this.#alerts.unshift({ message, resolvedBy: null });
    this.#alerts.length = Math.min(this.#alerts.length, MAX_ALERTS);
    this.#render();
  }

  #render(): void {
    const open = this.#alerts.filter((a) => a.resolvedBy === null && a.message.alert.type !== "alert.resolved").length;
    this.title.textContent = `Alerts: ${open} open`;
    this.list.replaceChildren(...this.#alerts.map((a) => this.#item(a)));
  }

  #item({ message, resolvedBy }: Shown): HTMLElement {
    const alert = message.alert;
    const item = document.createElement("li");
    const resolved = alert.type === "alert.resolved";
    item.className = `alert sev-${String(alert.severity)}${resolvedBy !== null ? " is-resolved" : ""}${resolved ? " resolution" : ""}`;
    item.dataset.seq = String(message.seq);
    const part = (text: string, className: string) => {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      return span;
    };

    const kind = message.type.replace(/^audit\.|\.alert$/g, "");
    item.append(
      part(kind, "alert-kind"),
      part(String(alert.severity ?? ""), "severity"),
      part(String(alert.rule ?? ""), "alert-rule"),
      part(resolved ? `resolved: ${String(alert.summary ?? "")}` : String(alert.summary ?? ""), "alert-summary"),
    );
    if (resolvedBy !== null) {
      item.append(part(`resolved (seq ${resolvedBy})`, "alert-state"));
    }

    for (const seq of (alert.related_seqs ?? []).slice(0, 10)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "related";
      button.textContent = `#${seq}`;
      button.title = `Open event seq ${seq}`;
      button.addEventListener("click", () => this.onSeq(seq));
      item.append(button);
    }

    return item;
  }
}
