//! The Rocket layer: the fairing, the routes it mounts, the guards, the pages.

pub(crate) mod api;
pub(crate) mod callback;
pub(crate) mod fairing;
pub(crate) mod federated;
pub(crate) mod guards;
pub(crate) mod info;
pub(crate) mod listed;
pub(crate) mod next;
pub(crate) mod pages;
pub(crate) mod required;
pub(crate) mod routes;
pub(crate) mod signed;
pub(crate) mod signin;
pub(crate) mod state;
