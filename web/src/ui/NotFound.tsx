import { Link } from './Link';
import { useFocusOn } from './hooks';

export function NotFound() {
  const heading = useFocusOn<HTMLHeadingElement>('not-found');
  return (
    <section className="empty-view">
      <h1 ref={heading} tabIndex={-1}>
        Nothing here
      </h1>
      <p>This address does not lead to a room.</p>
      <Link className="button" href="/">
        Go home
      </Link>
    </section>
  );
}
