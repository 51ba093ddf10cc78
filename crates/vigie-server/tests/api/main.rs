//! Black-box tests of the HTTP API, in process (`tower::ServiceExt::oneshot` on the real
//! router) over a real SQLite file. The store's behaviour on both backends is the conformance
//! suite's job (vigie-store); this suite covers the HTTP contract of shared/API.md.

mod helpers;

/// Tokens, roles and team scoping.
mod auth;
/// Every kind of bad input gets its documented 4xx, names the field, and changes nothing.
mod bad_input;
/// Lists: filters, orders, keyset pagination.
mod lists;
/// The OpenAPI document describes every route.
mod openapi;
/// Creating, reading, changing and commenting: the happy paths and their headers.
mod tickets;
