import type { ComponentChildren } from "preact";
import { followLink } from "../router";

interface Props {
  href: string;
  children: ComponentChildren;
  class?: string;
  "aria-current"?: "page" | undefined;
}

/** A link the console follows without reloading the page. */
export function Link({ href, children, ...rest }: Props) {
  return (
    <a href={href} onClick={(event) => followLink(event, href)} {...rest}>
      {children}
    </a>
  );
}
