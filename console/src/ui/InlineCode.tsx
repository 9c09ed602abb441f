/** Text from the API in which `backquoted` parts are names (an image, a field): shown as code. */
export function InlineCode({ text }: { text: string }) {
  const parts = text.split("`");
  if (parts.length % 2 === 0) return <>{text}</>; // an unpaired backquote: show it as it is
  return <>{parts.map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}</>;
}
