// Anchor for the shared precompiled header (cmake/ReproDeps.cmake).
