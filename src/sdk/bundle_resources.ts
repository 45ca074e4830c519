/**
 * `@opentelemetry/resources`' functions, re-exported by both lazily loaded
 * SDK bundles (traces and metrics).
 *
 * @module
 */
export {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
