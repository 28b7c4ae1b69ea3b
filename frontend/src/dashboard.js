// The dashboard's browser code: the world map, the small place maps, and the inbox's polling.
import { startMap } from "./map.js";
import { drawMiniMaps } from "./minimap.js";
import { pollAlerts } from "./alerts.js";
import { readBatchFile } from "./screening.js";

function start() {
  const map = document.getElementById("map");
  if (map) startMap(map);
  drawMiniMaps(document.querySelectorAll(".minimap"));
  const live = document.getElementById("alert-live");
  if (live) pollAlerts(live);
  const batch = document.getElementById("batch-form");
  if (batch) readBatchFile(batch);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
