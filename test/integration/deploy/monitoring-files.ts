/**
 * The monitoring files compose provisions (Prometheus scrape config and alerts, Grafana's data
 * source and the Holdfast dashboard), read for the static and the live checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '@holdfast/testing';

export const PROMETHEUS_YML = join(REPO_ROOT, 'deploy', 'prometheus', 'prometheus.yml');
export const ALERTS_YML = join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.yml');
export const GRAFANA_DIR = join(REPO_ROOT, 'deploy', 'grafana');
export const DASHBOARD_JSON = join(GRAFANA_DIR, 'dashboards', 'holdfast.json');
export const DATASOURCE_YML = join(GRAFANA_DIR, 'provisioning', 'datasources', 'prometheus.yml');

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
}

export function dashboard(): { uid: string; panels: Panel[] } {
  return JSON.parse(readFileSync(DASHBOARD_JSON, 'utf8')) as { uid: string; panels: Panel[] };
}

export function yamlFile<T>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

/** Every PromQL expression of the dashboard and of the alert rules. */
export function queries(): string[] {
  const alerts = yamlFile<{ groups: Array<{ rules: Array<{ expr: string }> }> }>(ALERTS_YML);
  return [
    ...dashboard().panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ...alerts.groups.flatMap((group) => group.rules.map((rule) => String(rule.expr))),
  ];
}

/** The metric names a PromQL expression reads (ours and the Node process defaults). */
export function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:holdfast|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}
