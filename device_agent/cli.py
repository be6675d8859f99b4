"""``mayday device``: run this machine (or a simulated tablet) as a customer's device."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from .config import default_config_path
from .customer import CustomerAction
from .screens.base import Rect

if TYPE_CHECKING:
    from .agent import DeviceAgent
    from .screens.base import ScreenSource
    from .sound import DesktopSound
    from .ui_tk import CustomerWindow

__all__ = ["add_arguments", "run"]

log = structlog.get_logger("mayday.device")


def _rect(value: str) -> Rect:
    try:
        x, y, width, height = (int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected x,y,width,height in pixels") from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError("width and height must be positive")
    return Rect(x, y, width, height)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default="http://127.0.0.1:8080", help="the mayday server's URL")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"credentials file (default {default_config_path()})",
    )
    parser.add_argument(
        "--name", default=None, help="the name agents see (default: this host's name)"
    )
    parser.add_argument(
        "--enrollment-key", default=None, help="if the server requires one to register"
    )
    parser.add_argument(
        "--source",
        choices=("tablet", "x11", "pattern"),
        default="tablet",
        help="screen source: a simulated tablet (default), a real X display, or a moving test pattern",
    )
    parser.add_argument(
        "--display", default=None, help="X display for --source x11 (default $DISPLAY)"
    )
    parser.add_argument(
        "--hide",
        type=_rect,
        action="append",
        default=[],
        metavar="X,Y,W,H",
        help="x11: a screen area never sent to the agent (repeatable)",
    )
    parser.add_argument(
        "--fps",
        type=float,
        default=30.0,
        help="frame-rate cap while the screen changes (default 30)",
    )
    parser.add_argument(
        "--keepalive-fps", type=float, default=1.0, help="frame rate of a still screen (default 1)"
    )
    parser.add_argument(
        "--locale", default="en", help="the customer's language, e.g. de or en-US (default en)"
    )
    parser.add_argument(
        "--topic", default="general", help="what help is asked for (default general)"
    )
    parser.add_argument("--help-now", action="store_true", help="press the help button at start")
    parser.add_argument(
        "--preview-port",
        type=int,
        default=None,
        help="serve the customer's view on http://127.0.0.1:PORT",
    )
    parser.add_argument(
        "--control-lease-s",
        type=float,
        default=10.0,
        help="after a disconnect, seconds in which control may resume without a new dialog (default 10)",
    )
    parser.add_argument(
        "--codec",
        choices=("h264", "vp8"),
        default="h264",
        help="video codec offered first; the other stays as a fallback (default h264)",
    )
    parser.add_argument(
        "--sound",
        choices=("auto", "on", "off"),
        default="auto",
        help="the conversation through this machine's speakers and microphone (sounddevice): "
        "auto uses them for --source x11 when they work; the preview page plays its own "
        "(default auto)",
    )
    parser.add_argument(
        "--fade-s",
        type=float,
        default=8.0,
        help="seconds before an unpinned mark fades (default 8)",
    )


class _Forward:
    """Customer actions from a UI built before the device agent that will handle them."""

    def __init__(self) -> None:
        self.target: Callable[[CustomerAction, int | str | None], None] | None = None

    def __call__(self, action: CustomerAction, value: int | str | None) -> None:
        if self.target is not None:
            self.target(action, value)


def _source(
    args: argparse.Namespace, forward: _Forward
) -> tuple[ScreenSource, CustomerWindow | None]:
    if args.source == "x11":
        from .screens.x11 import X11Screen
        from .ui_tk import CustomerWindow

        window = CustomerWindow(forward, args.locale, display=args.display)
        # The customer's own window is out of the agent's reach, like the tablet's controls.
        screen = X11Screen(args.display, sensitive=args.hide, protected=window.geometry)
        return screen, window
    if args.source == "pattern":
        from .screens.pattern import PatternScreen

        return PatternScreen(), None
    from .screens.tablet import SimulatedTablet

    return SimulatedTablet(), None


def _sound(args: argparse.Namespace, device: DeviceAgent) -> DesktopSound | None:
    """The desktop's speakers and microphone for the conversation, if wanted and working."""
    if args.sound == "off" or (args.sound == "auto" and args.source != "x11"):
        return None
    from .sound import DesktopSound, unavailable

    reason = unavailable()
    if reason is not None:
        print(f"no sound: {reason}; the customer can chat instead", flush=True)
        return None
    return DesktopSound(device.voice)


async def _run(args: argparse.Namespace) -> int:
    from .agent import DeviceAgent
    from .config import load_or_register

    path = args.config or default_config_path()
    name = args.name or socket.gethostname()
    credentials = await load_or_register(
        args.server, path, name=name, enrollment_key=args.enrollment_key
    )
    forward = _Forward()
    source, window = _source(args, forward)
    # Option by option, not **vars(args): mypy checks each keyword against DeviceAgent.
    device = DeviceAgent(
        credentials.server,
        device_id=credentials.device_id,
        device_secret=credentials.device_secret,
        source=source,
        locale=args.locale,
        topic=args.topic,
        fps=args.fps,
        keepalive_fps=args.keepalive_fps,
        fade_s=args.fade_s,
        codec=args.codec,
        control_lease_s=args.control_lease_s,
        customer_surface=window.set_view if window is not None else None,
    )
    forward.target = device.customer_action_from_thread
    sound = _sound(args, device)
    if window is not None:
        window.start()
    preview = None
    await device.start()
    print(
        f"device {credentials.name} ({credentials.device_id}) connected to {credentials.server}",
        flush=True,
    )
    if args.preview_port is not None:
        from .preview import PreviewServer

        preview = PreviewServer.of_device(device, source, f"mayday device: {credentials.name}")
        url = await preview.start(port=args.preview_port)
        print(f"customer's view: {url}", flush=True)
    if args.help_now:
        ticket = await device.request_help()
        print(f"help requested: ticket {ticket['id']}, position {ticket['position']}", flush=True)
    # Until Ctrl-C or SIGTERM. mayday/demo.py waits the same way for its own parts; five lines are
    # not worth making the demo import this command's module.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        if preview is not None:
            await preview.stop()
        await device.close()
        if sound is not None:
            sound.close()
        if window is not None:
            window.close()
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
