// A small map around one point (incident, site, venue): outlines and a marker.
import { drawBasemap, fitCanvas, projection } from "./basemap.js";

export function drawMiniMaps(boxes) {
  for (const box of boxes) {
    const lat = Number(box.dataset.lat);
    const lon = Number(box.dataset.lon);
    const canvas = box.querySelector("canvas");
    if (!canvas || !Number.isFinite(lat) || !Number.isFinite(lon)) continue;
    const { ctx, width, height } = fitCanvas(canvas);
    // About 1,500 km across: scale so that 2*pi*R spans 360 / 13.5 degrees of width.
    const proj = projection().center([lon, lat]).scale((width * 13.5) / (2 * Math.PI)).translate([width / 2, height / 2]);
    drawBasemap(ctx, proj, width, height);
    const [x, y] = proj([lon, lat]);
    ctx.beginPath();
    ctx.arc(x, y, 7, 0, 2 * Math.PI);
    ctx.fillStyle = "#c8312b";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  }
}
