"""gui/views layer."""
