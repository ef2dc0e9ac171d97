"""An RTSP test camera: GStreamer's RTSP server streaming a moving H.264 test picture on 127.0.0.1.

Usage: rtsp_server.py PORT [WIDTH HEIGHT FPS [USERNAME PASSWORD]]. PORT 0 picks a free port. With a username and
password the camera asks for them (HTTP Basic over RTSP) and answers 401 without them, as a real camera does. Prints the bound port on one line
once the server accepts connections, then serves rtsp://127.0.0.1:PORT/test until it is killed. Run it with
Debian's /usr/bin/python3, which sees the python3-gi bindings (see TEST-SERVERS.md).
"""

import ctypes
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PR_SET_PDEATHSIG = 1


def main() -> None:
    port = int(sys.argv[1])
    width, height, fps = (int(arg) for arg in sys.argv[2:5]) if len(sys.argv) >= 5 else (1280, 720, 15)
    credentials = sys.argv[5:7] if len(sys.argv) >= 7 else None
    # A test run that dies must not leave a camera behind holding the port.
    ctypes.CDLL('libc.so.6', use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        '( videotestsrc is-live=true pattern=ball '
        f'! video/x-raw,width={width},height={height},framerate={fps}/1 '
        '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 '
        '! rtph264pay name=pay0 pt=96 )'
    )
    # One encoder for every client: cheaper, and what a real camera does.
    factory.set_shared(True)
    if credentials:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string('media.factory.role', 'camera-user')
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(*credentials), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role('camera-user', 'media.factory.access', True)
        permissions.add_permission_for_role('camera-user', 'media.factory.construct', True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory('/test', factory)
    if server.attach(None) == 0:
        sys.exit(f'cannot listen on 127.0.0.1:{port}')
    print(server.get_bound_port(), flush=True)
    GLib.MainLoop().run()


if __name__ == '__main__':
    main()
