import { useState } from "react";

export function SqlBlock({ sql }: { sql: string }) {
  const [copied, setCopied] = useState<"" | "ok" | "fail">("");
  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(sql);
      setCopied("ok");
    } catch {
      setCopied("fail");
    }
    setTimeout(() => setCopied(""), 2000);
  }
  return (
    <div className="sql">
      <div className="sql-head">
        <span className="label">SQL</span>
        <button type="button" className="small" onClick={() => void copy()} aria-label="Copy the SQL">
          {copied === "ok" ? "Copied" : copied === "fail" ? "Select and copy" : "Copy"}
        </button>
      </div>
      <pre tabIndex={0} aria-label="SQL query">
        <code>{sql}</code>
      </pre>
      <span className="visually-hidden" aria-live="polite">
        {copied === "ok" ? "SQL copied to the clipboard" : ""}
      </span>
    </div>
  );
}
