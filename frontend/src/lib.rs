//! The WebAssembly entry point: hydrate the server-rendered page, nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the account pages are lazy routes, loaded from their own WASM chunk.
    leptos::mount::hydrate_lazy(app::App);
    // Lets tests (and curious people) see that the page is interactive; a lazily loaded page
    // says so itself once its code has arrived (`app::mark_hydrated`).
    let lazy = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector("[data-lazy-page]").ok().flatten()).is_some();
    if !lazy {
        app::mark_hydrated();
    }
}
