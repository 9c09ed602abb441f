/**
 * The Logs tab: pick a replica, read its latest 2,000 lines and follow new ones as they come
 * (a streamed GET of the pod's log endpoint with the session cookie), `Scroll to Bottom`, and
 * `Download` of the whole log. Timestamps are UTC.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Deployment, Pod } from "../../api/types";
import { Field } from "../../ui/Field";
import { Notice } from "../../ui/Notice";

export const MAX_LINES = 2000;
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z (.*)$/;

/** The log endpoint on this page's origin (the API may advertise another host name for it). */
function logPath(pod: Pod, params: Record<string, string>): string {
  const url = new URL(pod.logEndpoint ?? "", location.href);
  return `${url.pathname}?${new URLSearchParams(params).toString()}`;
}

/** "2026-01-02T03:04:05.123456789Z text" → ["2026-01-02 03:04:05", "text"]; plain lines have no time. */
export function splitStamp(line: string): [string, string] {
  const found = STAMP.exec(line);
  if (!found) return ["", line];
  return [`${(found[1] ?? "").replace("T", " ")}`, found[3] ?? ""];
}

async function problem(response: Response): Promise<string> {
  const text = (await response.text().catch(() => "")).trim();
  return text || `The log endpoint answered ${response.status}.`;
}

export function LogsTab({ deployment }: { deployment: Deployment }) {
  const pods = (deployment.pods ?? []).filter((pod) => pod.name && pod.logEndpoint);
  const [podName, setPodName] = useState<string>(pods[0]?.name ?? "");
  const pod = pods.find((candidate) => candidate.name === podName) ?? pods[0];
  const [follow, setFollow] = useState(true);
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [state, setState] = useState<"loading" | "following" | "done">("loading");
  const view = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    if (pod === undefined) return undefined;
    const abort = new AbortController();
    let buffer: string[] = [];
    let partial = "";
    let frame: number | null = null;
    const publish = (): void => {
      if (frame !== null) return;
      frame = requestAnimationFrame(() => { frame = null; setLines(buffer); });
    };
    setLines([]);
    setError(null);
    setState("loading");
    (async () => {
      const response = await fetch(logPath(pod, { tailLines: String(MAX_LINES), follow: String(follow), timestamps: "true" }),
                                   { credentials: "same-origin", signal: abort.signal });
      if (!response.ok || response.body === null) {
        setError(await problem(response));
        setState("done");
        return;
      }
      setState(follow ? "following" : "done");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parts = (partial + value).split("\n");
        partial = parts.pop() ?? "";
        buffer = buffer.concat(parts);
        if (buffer.length > MAX_LINES) buffer = buffer.slice(buffer.length - MAX_LINES);
        publish();
      }
      if (partial) buffer = [...buffer, partial].slice(-MAX_LINES);
      publish();
      setState("done");
    })().catch((failure: unknown) => {
      if (!abort.signal.aborted) {
        setError(failure instanceof Error ? failure.message : String(failure));
        setState("done");
      }
    });
    return () => {
      abort.abort();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [pod?.name, pod?.logEndpoint, follow]);

  useEffect(() => {
    const element = view.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [lines]);

  if (pod === undefined) {
    return <Notice kind="info">No replica is running, so there is no log to show. Logs appear once the deployment runs.</Notice>;
  }
  const scrollToBottom = (): void => {
    const element = view.current;
    if (element) element.scrollTop = element.scrollHeight;
    stick.current = true;
  };
  const onScroll = (): void => {
    const element = view.current;
    if (element) stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
  };
  const download = async (): Promise<void> => {
    setError(null);
    const response = await fetch(logPath(pod, { follow: "false", timestamps: "true" }), { credentials: "same-origin" });
    if (!response.ok) {
      setError(await problem(response));
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = `${pod.name ?? "deployment"}.log`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div class="logs">
      <div class="toolbar">
        <Field id="replica" label="Replicas">
          <select id="replica" value={pod.name ?? ""} onChange={(event) => setPodName(event.currentTarget.value)}>
            {pods.map((candidate) => <option key={candidate.name} value={candidate.name ?? ""}>{candidate.name} ({candidate.phase ?? "unknown"})</option>)}
          </select>
        </Field>
        <label class="checkbox">
          <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.currentTarget.checked)} />
          Follow
        </label>
        <button type="button" onClick={scrollToBottom}>Scroll to Bottom</button>
        <button type="button" onClick={download}>Download</button>
      </div>
      <p class="muted">Latest {MAX_LINES.toLocaleString("en")} lines{state === "following" ? ", following new lines live" : ""}. Timestamps are in UTC. <code>Download</code> saves the whole log.</p>
      {error && <Notice kind="error">{error}</Notice>}
      <pre class="log" role="log" aria-label={`Log of ${pod.name}`} tabIndex={0} ref={view} onScroll={onScroll}>
        {lines.length === 0 && state !== "loading" ? <span class="muted">(the log is empty)</span> : lines.map((line, index) => {
          const [time, text] = splitStamp(line);
          return <div key={index} class="log-line">{time && <time class="log-time">{time} UTC</time>}{text}</div>;
        })}
      </pre>
    </div>
  );
}
