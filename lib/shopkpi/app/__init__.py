"""Running and showing the work: the notebook runner, the batch, the dashboard server and its pages, exports, PDF."""
