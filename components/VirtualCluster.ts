/** Moved to `components/tenancy/VirtualCluster.ts`; kept so existing imports resolve. */
export * from "./tenancy/VirtualCluster";
