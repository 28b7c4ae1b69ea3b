// The inbox polls for changes and says so (no reload by itself: a form may be half filled):
// new alerts, escalations, and changes by others (acknowledged, resolved, assigned). The tab
// counts follow the server. An expired session stops the polling with a link to log in again.
const EVERY_MS = 10000;

function say(live, words, href, label) {
  live.textContent = "";
  live.append(document.createTextNode(words + " "));
  const link = document.createElement("a");
  link.href = href;
  link.textContent = label;
  live.append(link);
}

function updateCounts(counts) {
  for (const span of document.querySelectorAll(".tabs .count[data-state]")) {
    const key = span.dataset.state;
    const n = key === "open" ? (counts.new || 0) + (counts.escalated || 0) : counts[key] || 0;
    span.textContent = String(n);
  }
}

export function pollAlerts(live) {
  const shown = Number(live.dataset.newest || 0);
  const stamp = live.dataset.stamp || "";
  const escalated = Number(live.dataset.escalated || 0);
  const source = live.dataset.source;
  let timer = null;
  async function check() {
    try {
      const answer = await fetch(source, { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 401) {
        window.clearInterval(timer);
        say(live, "Your session has expired: nothing here is updated any more.", live.dataset.login, "Log in again");
        return;
      }
      if (!answer.ok) {
        live.textContent = `The server answered ${answer.status} when asked for new alerts; retrying.`;
        return;
      }
      const data = await answer.json();
      updateCounts(data.counts);
      const more = (data.counts.escalated || 0) - escalated;
      if (data.newest > shown) {
        say(live, "New alerts have arrived since this page was loaded.", live.dataset.show, "Show them");
      } else if (more > 0) {
        say(live, `${more} more alert${more === 1 ? " has" : "s have"} been escalated since this page was loaded.`,
          "/alerts?state=escalated", "Show escalated alerts");
      } else if (data.stamp !== stamp) {
        say(live, "Alerts have changed since this page was loaded (acknowledged, resolved or assigned by someone).",
          window.location.pathname + window.location.search, "Reload the list");
      } else {
        live.textContent = "";
      }
    } catch (error) {
      live.textContent = "Cannot reach the server to look for new alerts; retrying.";
    }
  }
  timer = window.setInterval(check, EVERY_MS);
  window.legationInbox = { check };
}
