"""The `stance` command: `main` holds the app and the model-facing commands (score, train, evaluate, predict);
one module per command family beside it (models, labels, compare, actors, retrain, serve); `common` holds
the console and `fail` that every command imports. Commands stay thin: the work is in the library wings."""
