import { z } from 'zod';
import { nonEmpty } from './values.js';

/** `management:` settings of the management listener (`web_ui_port`) beyond its port, and where changes are audited. */
export const managementSchema = z
  .strictObject({
    /** Serve the management listener (web_ui_port) over TLS. */
    tls: z.strictObject({ cert_file: nonEmpty, key_file: nonEmpty }).optional(),
    /** Host header names the management listener answers besides localhost and its own address. */
    host_names: z.array(nonEmpty).default([]),
    /** Browser origins allowed to call it (none by default: a web page cannot drive the daemon). */
    allowed_origins: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** Where each change and refusal is recorded (default: audit.log in the state dir). */
    audit_log: nonEmpty.optional(),
  })
  .prefault({});
