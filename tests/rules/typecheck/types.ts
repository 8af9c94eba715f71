// The shape an importable xmppwatch dashboard must have, built from Grafana's own published
// schema (@grafana/schema): the dashboard model, and for each panel type its plugin's Options
// and FieldConfig, so a misspelt or misplaced option, a wrong enum value or a missing required
// option is a compile error. Object literals checked with `satisfies` get excess-property
// checks: unknown keys are errors too.
import type {
  AnnotationQuery, Dashboard, DataQuery, DataSourceRef, FieldConfig, FieldConfigSource, GridPos,
  Panel, RowPanel, VariableModel,
} from '@grafana/schema';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';

// The generated types use TypeScript string enums (e.g. LegendDisplayMode.Table), which JSON
// cannot hold: a JSON dashboard has their string values ("table"). Lit<T> replaces every
// string enum with the union of its values, recursively; everything else is unchanged.
export type Lit<T> =
  T extends string ? `${T}` :
  T extends (infer U)[] ? Lit<U>[] :
  T extends object ? { [K in keyof T]: Lit<T[K]> } :
  T;

// Grafana's Prometheus data source query (public/app/plugins/datasource/prometheus: PromQuery);
// it is not part of @grafana/schema, so it is spelled out here with the fields we use.
export interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  editorMode?: 'code' | 'builder';
  interval?: string;
  exemplar?: boolean;
}
export interface PromAnnotationQuery extends PromQuery {
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  step?: string;
  useValueForTime?: boolean;
}

type Defaults<C> = Omit<Lit<FieldConfig>, 'custom'> & { custom?: Lit<C> };
type FieldConfigOf<C> = { defaults: Defaults<C>; overrides: Lit<FieldConfigSource>['overrides'] };

// Every xmppwatch panel queries Prometheus and is placed and titled.
type PanelBase = Omit<Lit<Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
  id: number;
  title: string;
  gridPos: GridPos;
  datasource: DataSourceRef;
  targets: [PromQuery, ...PromQuery[]];
};
export type TimeSeriesPanel = PanelBase & {
  type: 'timeseries'; options: Lit<TimeSeries.Options>; fieldConfig: FieldConfigOf<TimeSeries.FieldConfig>;
};
export type StatPanel = PanelBase & {
  type: 'stat'; options: Lit<Stat.Options>; fieldConfig: FieldConfigOf<Record<string, never>>;
};
export type StateTimelinePanel = PanelBase & {
  type: 'state-timeline'; options: Lit<StateTimeline.Options>; fieldConfig: FieldConfigOf<StateTimeline.FieldConfig>;
};
export type TablePanel = PanelBase & {
  type: 'table'; options: Lit<Table.Options>; fieldConfig: FieldConfigOf<Table.FieldConfig>;
};
export type QueryPanel = TimeSeriesPanel | StatPanel | StateTimelinePanel | TablePanel;
export type Row = Omit<Lit<RowPanel>, 'panels'> & { panels: QueryPanel[]; gridPos: GridPos };

// What Grafana's export ("Export for sharing externally") adds for import with inputs.
export interface ImportInput {
  name: string; label: string; description: string; type: 'datasource'; pluginId: string; pluginName: string;
}
export interface ImportRequire {
  type: 'grafana' | 'datasource' | 'panel'; id: string; name: string; version: string;
}

export type ImportableDashboard = Omit<Lit<Dashboard>, 'panels' | 'templating' | 'annotations'> & {
  __inputs: [ImportInput, ...ImportInput[]];
  __elements: Record<string, never>;
  __requires: ImportRequire[];
  uid: string;
  title: string;
  // Grafana 12/13's current dashboard schema (defaultDashboard.schemaVersion in @grafana/schema;
  // tests/rules/typecheck/gen.mjs checks the two agree).
  schemaVersion: 42;
  panels: (QueryPanel | Row)[];
  templating: { list: Lit<VariableModel>[] };
  annotations: { list: Lit<AnnotationQuery<PromAnnotationQuery>>[] };
};
