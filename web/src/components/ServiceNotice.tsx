/** What the server said about its own health (`service` events): shown while a replica is degraded. */
export interface ServiceState {
  status: "ok" | "degraded";
  problems: string[];
}

export function serviceFrom(ev: { status?: unknown; problems?: unknown }): ServiceState {
  const problems = Array.isArray(ev.problems) ? ev.problems.filter((p): p is string => typeof p === "string") : [];
  return { status: ev.status === "degraded" && problems.length > 0 ? "degraded" : "ok", problems };
}

export function ServiceNotice({ service }: { service: ServiceState }) {
  if (service.status === "ok") return null;
  return (
    <div className="notice warn service" role="status" aria-live="polite">
      <strong>Part of the service is down.</strong>
      <ul>
        {service.problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}
