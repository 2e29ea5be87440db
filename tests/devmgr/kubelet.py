#!/usr/bin/python3
"""A kubelet stand-in for devmgr serve's tests, on real gRPC (python3-grpcio) with the
messages of devmgr/rpc/api.proto (compiled by the test into PYDIR).

  kubelet.py PYDIR kubelet DIR LOG   serve DIR/kubelet.sock (Registration); for each
                                     Register: a JSON line in LOG, then GetDevicePluginOptions
                                     and a ListAndWatch stream on the plugin's socket, one
                                     JSON line in LOG per list received. Runs until SIGTERM,
                                     then removes kubelet.sock.
  kubelet.py PYDIR call SOCK METHOD JSON [N]
                                     one call (N concurrent ones, each on its own
                                     connection) of a DevicePlugin method with the request in
                                     JSON; prints one JSON line per call: the answer, or
                                     {"code": N, "message": "..."} for a gRPC error.
"""
import json
import os
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
import api_pb2  # noqa: E402
import api_pb2_grpc  # noqa: E402

lock = threading.Lock()


def log(f, obj):
    obj["t"] = time.time()
    with lock:
        f.write(json.dumps(obj, sort_keys=True) + "\n")
        f.flush()


def to_dict(msg):
    return json_format.MessageToDict(msg, preserving_proto_field_name=True, including_default_value_fields=True)


def watch(sockdir, req, f):
    path = "unix://" + os.path.join(sockdir, req.endpoint)
    try:
        ch = grpc.insecure_channel(path)
        stub = api_pb2_grpc.DevicePluginStub(ch)
        opts = stub.GetDevicePluginOptions(api_pb2.Empty(), timeout=5)
        log(f, {"event": "options", "resource": req.resource_name, "options": to_dict(opts)})
        for resp in stub.ListAndWatch(api_pb2.Empty()):
            log(f, {"event": "list", "resource": req.resource_name,
                    "devices": to_dict(resp).get("devices", [])})
        log(f, {"event": "stream-end", "resource": req.resource_name})
    except grpc.RpcError as e:
        log(f, {"event": "stream-error", "resource": req.resource_name, "code": e.code().value[0],
                "message": e.details()})


class Registration(api_pb2_grpc.RegistrationServicer):
    def __init__(self, sockdir, f):
        self.sockdir, self.f = sockdir, f

    def Register(self, req, ctx):
        log(self.f, {"event": "register", "request": to_dict(req)})
        threading.Thread(target=watch, args=(self.sockdir, req, self.f), daemon=True).start()
        return api_pb2.Empty()


def kubelet(sockdir, logpath):
    sock = os.path.join(sockdir, "kubelet.sock")
    f = open(logpath, "a")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    api_pb2_grpc.add_RegistrationServicer_to_server(Registration(sockdir, f), server)
    # bound on a temporary name and renamed: the plugin sees kubelet.sock appear ready
    tmp = os.path.join(sockdir, ".kubelet.sock.tmp")
    if os.path.exists(tmp):
        os.unlink(tmp)
    server.add_insecure_port("unix://" + tmp)
    server.start()
    os.rename(tmp, sock)
    log(f, {"event": "kubelet-ready"})
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    while not done.wait(0.2):
        pass
    os.unlink(sock)
    server.stop(0)


METHODS = {
    "Allocate": (api_pb2.AllocateRequest, "Allocate"),
    "GetPreferredAllocation": (api_pb2.PreferredAllocationRequest, "GetPreferredAllocation"),
    "GetDevicePluginOptions": (api_pb2.Empty, "GetDevicePluginOptions"),
}


def call(sock, method, body, n):
    cls, name = METHODS[method]
    req = json_format.Parse(body, cls())
    out = [None] * n

    def one(i):
        ch = grpc.insecure_channel("unix://" + sock)
        try:
            resp = getattr(api_pb2_grpc.DevicePluginStub(ch), name)(req, timeout=10)
            out[i] = to_dict(resp)
        except grpc.RpcError as e:
            out[i] = {"code": e.code().value[0], "message": e.details()}
        ch.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in out:
        print(json.dumps(o, sort_keys=True))


if __name__ == "__main__":
    if sys.argv[2] == "kubelet":
        kubelet(sys.argv[3], sys.argv[4])
    elif sys.argv[2] == "call":
        call(sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    else:
        sys.exit("kubelet.py: unknown mode " + sys.argv[2])
