// The inbox polls for new alerts and says so (no reload by itself: a form may be half filled).
const EVERY_MS = 10000;

export function pollAlerts(live) {
  const shown = Number(live.dataset.newest || 0);
  const source = live.dataset.source;
  async function check() {
    try {
      const answer = await fetch(source, { credentials: "same-origin", cache: "no-store" });
      if (!answer.ok) return;
      const data = await answer.json();
      if (data.newest > shown) {
        live.textContent = "";
        const words = document.createTextNode("New alerts have arrived since this page was loaded. ");
        const link = document.createElement("a");
        link.href = live.dataset.show;
        link.textContent = "Show them";
        live.append(words, link);
      }
    } catch (error) {
      live.textContent = "Cannot reach the server to look for new alerts; retrying.";
    }
  }
  window.setInterval(check, EVERY_MS);
  window.legationInbox = { check };
}
