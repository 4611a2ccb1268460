"""ganzoo's Hydra plugins (Hydra only discovers plugins inside the `hydra_plugins` namespace package)."""
