"""Deployment bundles per target."""

from edgeemo.deploy.bundle import BundleError, BundleResult, build_bundle, unpack_bundle

__all__ = ["BundleError", "BundleResult", "build_bundle", "unpack_bundle"]
