"""TikTok Shop Open API: signed client, encrypted tokens, incremental sync into the store, webhook receiver."""
