"""The Discord front and the glue: config, storage, the pipeline, the `cadenza` command."""
