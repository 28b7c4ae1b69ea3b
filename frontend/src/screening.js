// The batch form: a chosen file is read into the rows box (the form itself sends text only).
export function readBatchFile(form) {
  const file = form.querySelector('input[type="file"]');
  const rows = form.querySelector("textarea");
  const format = form.querySelector("select[name=format]");
  if (!file || !rows || !format) return;
  file.addEventListener("change", async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    rows.value = await chosen.text();
    format.value = /\.jsonl?$/i.test(chosen.name) ? "jsonl" : "csv";
  });
}
