"""Product words, spelled as VMware spells them, for labels and sheet names alike."""

# How VMware writes these words; every other word is capitalised.
PRODUCT_WORDS = {
    "vram": "vRAM", "vcenter": "vCenter", "vcenters": "vCenters", "cbt": "CBT", "sioc": "SIOC", "cpu": "CPU",
    "mmu": "MMU", "vm": "VM", "vms": "VMs", "win2003": "Win2003", "io": "I/O", "iops": "IOPS", "gb": "GB",
    "mb": "MB", "ms": "ms", "id": "ID", "uuid": "UUID", "rdm": "RDM", "esxi": "ESXi", "hw": "HW",
    "vsan": "vSAN", "ctk": "CTK", "pct": "%", "12m": "12-month", "mbps": "MB/s", "kb": "KB", "url": "URL",
    # RVTools' tab names, which admins know: vSwitch, vPort, pNIC, dvSwitch, dvPort, VIB
    "vswitch": "vSwitch", "vport": "vPort", "pnic": "pNIC", "dvswitch": "dvSwitch", "dvport": "dvPort", "vib": "VIB",
}
