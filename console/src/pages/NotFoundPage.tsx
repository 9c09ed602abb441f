import { Link } from "../ui/Link";

export function NotFoundPage() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is nothing at this address. <Link href="/">Back to Deployments</Link></p>
    </section>
  );
}
