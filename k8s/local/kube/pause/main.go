// The pod sandbox's process (the "pause" container): it holds the pod's namespaces open, reaps orphaned
// processes when the pod shares one PID namespace, and exits on SIGINT or SIGTERM. Upstream's is a C program
// shipped only as an image from registry.k8s.io, which this machine cannot reach; this one is built from source
// with the rest of the cluster and packed into a local image (k8s/local/image-archive.sh).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
