// The theme: the OS's (CSS light-dark()) unless the Theme button picks one, kept in localStorage.
const KEY = "auditstream.console.theme";

const THEMES = ["auto", "light", "dark"] as const;
type Theme = (typeof THEMES)[number];

function applyTheme(button: HTMLElement, theme: Theme): void {
  if (theme === "auto") {
    delete document.documentElement.dataset.theme;
  } else {
    document.documentElement.dataset.theme = theme;
  }

  button.textContent = `Theme: ${theme}`;
}

/** Applies the remembered theme and cycles auto → light → dark on each click of `button`. */
export function initTheme(button: HTMLElement): void {
  button.addEventListener("click", () => {
    const current = (localStorage.getItem(KEY) ?? "auto") as Theme;
    const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length] ?? "auto";
    localStorage.setItem(KEY, next);
    applyTheme(button, next);
  });
  applyTheme(button, THEMES.find((t) => t === localStorage.getItem(KEY)) ?? "auto");
}
