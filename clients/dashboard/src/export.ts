// Export of the current filters through the server's streaming export (GET /api/v1/events/export): the body is read
// chunk by chunk as it arrives, never parsed and never held as one string. Where the File System Access API is there
// (Chromium), the chunks go straight to the file the user picked; elsewhere they are kept as the chunks themselves and
// handed to the browser as one Blob download. Progress (lines and bytes) is shown while it streams.
import { problemText } from "./history.js";

interface Writable {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

type SavePicker = (options: { suggestedName: string; types?: Array<{ description: string; accept: Record<string, string[]> }> }) => Promise<{ createWritable(): Promise<Writable> }>;

const TYPES = { ndjson: "application/x-ndjson", csv: "text/csv" } as const;
const NEWLINE = 10;

/** Streams the export into a file; `status` says how far it got and how it ended (`error` for a failure). */
export async function exportEvents(format: "ndjson" | "csv", filterQuery: string, token: string, status: (text: string, error?: boolean) => void): Promise<void> {
  const label = format.toUpperCase();
  const name = `auditstream-export.${format}`;
  const picker = (window as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  let file: Writable | null = null;
  try {
    if (picker) {
      // Asked first, while the click still counts as a user gesture.
      const handle = await picker({ suggestedName: name, types: [{ description: label, accept: { [TYPES[format]]: [`.${format}`] } }] });
      file = await handle.createWritable();
    }
  } catch (error) {
    status((error as Error).name === "AbortError" ? "Export cancelled." : `Export failed: ${(error as Error).message}`, (error as Error).name !== "AbortError");
    return;
  }

  const params = new URLSearchParams(filterQuery);
  params.set("format", format);
  status(`Exporting ${label}…`);
  try {
    const response = await fetch(`/api/v1/events/export?${params}`, { headers: { authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!response.ok || !response.body) {
      await file?.abort();
      status(`Export failed: the server answered ${await problemText(response)}`, true);
      return;
    }

    const chunks: Uint8Array[] = [];
    const reader = response.body.getReader();
    let lines = 0;
    let bytes = 0;
    let shown = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let i = 0; i < value.length; i++) if (value[i] === NEWLINE) lines++;
      bytes += value.length;
      if (file) await file.write(value);
      else chunks.push(value);
      if (performance.now() - shown > 250) {
        shown = performance.now();
        status(`Exporting ${label}… ${lines.toLocaleString("en")} lines, ${(bytes / 1048576).toFixed(1)} MB`);
      }
    }

    if (file) {
      await file.close();
    } else {
      const url = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: TYPES[format] }));
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    }

    status(`Exported ${label}: ${lines.toLocaleString("en")} lines, ${(bytes / 1048576).toFixed(1)} MB.`);
  } catch (error) {
    await file?.abort().catch(() => undefined);
    status(`Export failed: ${(error as Error).message}`, true);
  }
}
