// Country outlines from Natural Earth (world-atlas), drawn on a canvas with d3-geo.
import { geoMercator, geoPath } from "d3-geo";
import { feature, mesh } from "topojson-client";
import world from "world-atlas/countries-110m.json";

export const land = feature(world, world.objects.countries);
export const borders = mesh(world, world.objects.countries, (a, b) => a !== b);

export function projection() {
  return geoMercator().precision(0.5);
}

export function drawBasemap(ctx, proj, width, height) {
  ctx.fillStyle = "#dfe8f2";
  ctx.fillRect(0, 0, width, height);
  const path = geoPath(proj, ctx);
  ctx.beginPath();
  path(land);
  ctx.fillStyle = "#f7f4ec";
  ctx.fill();
  ctx.beginPath();
  path(borders);
  ctx.strokeStyle = "#b9b3a5";
  ctx.lineWidth = 0.6;
  ctx.stroke();
}

// A canvas sized to its box in device pixels; the context draws in CSS pixels.
export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const { width, height } = canvas.getBoundingClientRect();
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, width, height };
}
