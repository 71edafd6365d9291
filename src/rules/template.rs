//! Placeholders (`{detail.customerId}`, `{$}`), channel templates with a literal namespace, payload
//! templates, and the filters that turn any value into a valid channel segment.
