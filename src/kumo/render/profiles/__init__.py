"""One render profile per target cloud; each holds that cloud's annotations."""

from __future__ import annotations

from kumo.render.profiles.aws import AwsProfile
from kumo.render.profiles.azure import AzureProfile
from kumo.render.profiles.base import Exposure, Profile
from kumo.render.profiles.gcp import GcpProfile
from kumo.render.profiles.generic import GenericProfile

PROFILES: dict[str, Profile] = {
    "aws": AwsProfile(),
    "gcp": GcpProfile(),
    "azure": AzureProfile(),
    "generic": GenericProfile(),
}


def get_profile(cloud: str) -> Profile:
    return PROFILES[cloud]


__all__ = [
    "PROFILES",
    "AwsProfile",
    "AzureProfile",
    "Exposure",
    "GcpProfile",
    "GenericProfile",
    "Profile",
    "get_profile",
]
