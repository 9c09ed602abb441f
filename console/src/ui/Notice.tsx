import type { ComponentChildren } from "preact";

interface Props {
  kind: "info" | "warning" | "error" | "success";
  title?: ComponentChildren;
  children: ComponentChildren;
}

/** A banner: warnings and errors are announced (role alert), the rest is a status. */
export function Notice({ kind, title, children }: Props) {
  const role = kind === "error" || kind === "warning" ? "alert" : "status";
  return (
    <div class={`notice notice-${kind}`} role={role}>
      {title && <strong class="notice-title">{title}</strong>}
      <div>{children}</div>
    </div>
  );
}

/** Errors that name no field, above a form. */
export function Errors({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <Notice kind="error">
      {messages.map((message) => <p key={message}>{message}</p>)}
    </Notice>
  );
}
