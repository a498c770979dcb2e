// Keeps the portable library non-empty while it has no other source.
namespace keel { void portable_anchor() {} }
