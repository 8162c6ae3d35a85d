/**
 * What the streaming parser reads out of a `.heapsnapshot` file: the header as V8 writes it and the flat columns
 * (one typed array per node or edge field) that the analysis index is built on.
 */
import type { StringTable } from './strings';

/** The `snapshot.meta` object: field and type names that define the layout of the numeric sections. */
export interface SnapshotMetaInfo {
  node_fields: string[];
  node_types: (string[] | string)[];
  edge_fields: string[];
  edge_types: (string[] | string)[];
  trace_function_info_fields?: string[];
  trace_node_fields?: string[];
  sample_fields?: string[];
  location_fields?: string[];
}

/** `trace_function_info_fields` as V8 writes them, for a snapshot whose meta leaves them out. */
export const TRACE_FUNCTION_INFO_FIELDS: readonly string[] = [
  'function_id',
  'name',
  'script_name',
  'script_id',
  'line',
  'column',
];

/** The `snapshot` header object. */
export interface SnapshotHeader {
  meta: SnapshotMetaInfo;
  node_count: number;
  edge_count: number;
  trace_function_count?: number;
  extra_native_bytes?: number;
}

/** The allocation trace tree flattened into columns; node 0 is the tree's root, `parent` of the root is -1. */
export interface TraceTree {
  count: number;
  id: Uint32Array;
  functionInfoIndex: Uint32Array;
  parent: Int32Array;
}

/** Everything read from one snapshot file, before any index is built. */
export interface RawSnapshot {
  file: string;
  fileSize: number;
  header: SnapshotHeader;
  nodeCount: number;
  edgeCount: number;
  nodeType: Uint8Array;
  nodeName: Uint32Array;
  nodeId: Uint32Array;
  nodeSelfSize: Float64Array;
  /** Trace tree node id per node, or null when the snapshot has no such field. */
  nodeTraceId: Uint32Array | null;
  /** Detachedness per node, or null when absent. */
  nodeDetachedness: Uint8Array | null;
  /** firstEdge[i]..firstEdge[i+1] are the edges owned by node i. */
  firstEdge: Uint32Array;
  edgeType: Uint8Array;
  /** String index for named edges, element index for element/hidden edges. */
  edgeName: Uint32Array;
  /** Target node index (not the flat array position). */
  edgeTo: Uint32Array;
  strings: StringTable;
  /** Flat `trace_function_infos` (meta.trace_function_info_fields per entry), empty when absent. */
  traceFunctionInfos: Float64Array;
  traceTree: TraceTree | null;
  /** Flat `locations` with `object_index` already divided into a node index. */
  locations: Uint32Array;
  /** Sections present in the file, in file order. */
  sections: string[];
  /** The retainer index, when a parallel parse built it alongside (see snapshot.ts for its meaning). */
  retainers?: { firstRetainer: Uint32Array; retainerEdge: Uint32Array; retainerNode: Uint32Array };
}
