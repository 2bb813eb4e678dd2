"""Hard negatives: near-miss benign admin commands the detector must not flag, written for ssm-warden
(none copied from the dev corpus). Each template is one "technique" of looking risky while doing
ordinary work; its filled-in commands share the template's id, so a cross-validation split by id
keeps all forms of one near-miss on the same side.

``python -m bench hard_negatives`` writes ``bench/data/hard_negatives.jsonl`` again (deterministic).
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "hard_negatives.jsonl"

_CACHES = ["pip", "go-build", "yarn", "pypoetry", "node-gyp", "mesa_shader_cache", "thumbnails"]
_SENSITIVE = ["/etc/shadow", "/etc/sudoers", "~/.aws/credentials", "~/.ssh/id_ed25519", "/etc/gshadow"]
_LOGS = ["/var/log/auth.log", "/var/log/syslog", "/var/log/secure", "/var/log/nginx/error.log"]
_SERVICES = ["nginx", "postgresql", "redis-server", "docker", "chronyd", "cron"]
_BUILD_DIRS = ["./build", "./dist", "./target", "node_modules", ".pytest_cache", "__pycache__"]

TEMPLATES: dict[str, list[str]] = {
    "user-cache-removed": [f"rm -rf ~/.cache/{c}" for c in _CACHES] + ["rm -rf $HOME/.npm/_cacache"],
    "build-dir-removed": [f"rm -rf {d}" for d in _BUILD_DIRS],
    "find-delete-scoped": [
        "find . -name '*.pyc' -delete",
        "find /tmp -maxdepth 1 -name 'pip-*' -mtime +2 -exec rm -rf {} +",
        "find ./logs -type f -mtime +30 -delete",
        "find ~/Downloads -name '*.part' -delete",
    ],
    "path-printed": [f"echo {p}" for p in _SENSITIVE] + [f"ls -l {p}" for p in _SENSITIVE],
    "sensitive-file-metadata": [f"stat -c '%a %U' {p}" for p in _SENSITIVE] + ["sudo visudo -c"],
    "cloud-dry-run": [
        "aws s3 rm s3://team-artifacts/tmp/ --recursive --dryrun",
        "aws ec2 terminate-instances --instance-ids i-0123456789abcdef0 --dry-run",
        "aws ec2 delete-vpc --vpc-id vpc-0abc --dry-run",
        "kubectl delete deployment web --dry-run=client",
        "kubectl delete ns staging --dry-run=server -o yaml",
        "terraform plan -destroy -out destroy.plan",
        "rsync -avn --delete ./site/ /srv/www/",
        "helm uninstall web --dry-run",
    ],
    "help-pages": [
        "rm --help",
        "shred --help",
        "mkfs.ext4 --help",
        "iptables --help",
        "nc -h",
        "userdel --help",
        "crontab --help",
        "history --help",
    ],
    "log-reading": [f"sudo tail -n 200 {log}" for log in _LOGS]
    + [f"grep -i 'failed password' {log}" for log in _LOGS[:2]]
    + [
        "journalctl -u ssh --since today",
        "sudo journalctl --disk-usage",
        "sudo logrotate -d /etc/logrotate.conf",
    ],
    "service-restart": [f"sudo systemctl restart {s}" for s in _SERVICES]
    + [f"systemctl status {s}" for s in _SERVICES]
    + ["systemctl status auditd", "sudo systemctl reload rsyslog"],
    "db-admin": [
        "sudo -u postgres psql -c 'select version()'",
        "sudo -u postgres psql -c '\\du'",
        "mysql -u app -p -e 'show processlist'",
        "mysqldump --single-transaction appdb > /backup/appdb.sql",
        "pg_dump -Fc billing > /backup/billing.dump",
        "redis-cli info memory",
    ],
    "json-from-apis": [
        "curl -s https://api.github.com/repos/python/cpython/releases/latest | jq -r .tag_name",
        "curl -fsSL https://checkip.amazonaws.com",
        "curl -s http://localhost:9090/metrics | grep -c up",
        "wget -qO- http://10.0.3.4:8080/health",
        "curl -sS https://registry.npmjs.org/left-pad | jq .time.modified",
    ],
    "base64-data": [
        "base64 -d cert.b64 > cert.pem",
        "echo aGVsbG8gd29ybGQ= | base64 -d",
        "base64 -w0 logo.png > logo.txt",
        "kubectl get configmap app -o jsonpath='{.data.config}' | base64 -d | jq .",
    ],
    "ssh-tunnels-and-keys": [
        "ssh -L 5432:db.internal:5432 bastion",
        "ssh -N -D 1080 ops@10.0.0.5",
        "ssh-keygen -t ed25519 -C ops@example.com -f ~/.ssh/id_ops",
        "cat ~/.ssh/id_ed25519.pub",
        "ssh-keygen -lf ~/.ssh/authorized_keys",
        "ssh-add -l",
    ],
    "permissions-ordinary": [
        "chmod 755 deploy.sh",
        "chmod -R g+w /srv/shared",
        "sudo chown -R www-data:www-data /var/www/html",
        "chmod 600 ~/.ssh/config",
        "sudo chmod 640 /etc/nginx/nginx.conf",
    ],
    "containers-ordinary": [
        'docker run --rm -v "$PWD":/work -w /work python:3.12 pytest -q',
        "docker exec -it web sh -c 'ls /app'",
        "docker compose logs -f api",
        "podman run --rm -it alpine:3.20 sh",
        "kubectl exec -it deploy/web -- sh -c 'env | grep -c PORT'",
    ],
    "kubernetes-reading": [
        "kubectl get pods -A",
        "kubectl get secrets -n app",
        "kubectl describe pod web-0",
        "kubectl logs deploy/api --tail=100",
        "kubectl get events --sort-by=.lastTimestamp",
    ],
    "package-management": [
        "sudo apt-get install -y nginx",
        "sudo dnf -y update",
        "pip install --user -r requirements.txt",
        "npm ci --ignore-scripts",
        "sudo apt-get purge -y apache2",
        "sudo snap refresh amazon-ssm-agent",
    ],
    "vendor-installers": [
        "cd /tmp && unzip -q awscliv2.zip && sudo ./aws/install",
        "sudo dpkg -i /tmp/session-manager-plugin.deb",
        "sudo rpm -Uvh /tmp/amazon-cloudwatch-agent.rpm",
        "chmod +x /tmp/cuda_12.4.0_linux.run",
    ],
    "network-diagnostics": [
        "ss -tlnp",
        "ping -c 3 10.0.0.1",
        "traceroute example.com",
        "dig +short example.com",
        "nc -zv 10.0.0.5 443",
        "curl -I https://example.com",
        "ip route show",
    ],
    "copies-to-our-hosts": [
        "rsync -az ./dist/ deploy@10.0.1.20:/srv/app/",
        "scp build.tgz ops@192.168.1.50:/tmp/",
        "aws s3 cp ./report.csv s3://reports-bucket/2026/",
        "tar czf - ./site | ssh deploy@10.0.1.21 'tar xzf - -C /srv/www'",
    ],
    "git-ordinary": [
        "git config --global user.email ops@example.com",
        "git config --global pull.rebase true",
        "git clean -fdx",
        "git reset --hard origin/main",
        "git push --force-with-lease",
    ],
    "history-and-shell": [
        "history | tail -20",
        "history | grep kubectl",
        "export HISTTIMEFORMAT='%F %T '",
        "source ~/.bashrc",
        "alias ll='ls -la'",
    ],
    "cron-reading": ["crontab -l", "sudo ls /etc/cron.d", "cat /etc/crontab", "systemctl list-timers"],
    "users-ordinary": [
        "id",
        "getent group docker",
        "sudo usermod -aG docker alice",
        "sudo passwd -l bob",
        "last -n 20",
        "who -a",
    ],
    "sysctl-reading": [
        "sysctl net.ipv4.ip_forward",
        "sudo sysctl -w net.core.somaxconn=4096",
        "sysctl -a | grep vm.swappiness",
        "cat /proc/sys/kernel/randomize_va_space",
    ],
    "touch-ordinary": ["touch ./build/.stamp", "touch -d '1 hour ago' ./cache/marker", "touch /etc/motd"],
    "grep-code": [
        "grep -rn password_reset ./app/views",
        "grep -rn TODO src/",
        "rg -n 'def get_token' src/",
        "grep -ri 'timeout' /etc/nginx/",
    ],
}


def hard_negatives() -> list[dict[str, str]]:
    rows = []
    for technique, commands in TEMPLATES.items():
        for command in commands:
            rows.append({"command": command, "label": "benign", "technique": technique})
    return rows


def main() -> None:
    rows = hard_negatives()
    DATA.parent.mkdir(parents=True, exist_ok=True)
    with DATA.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    print(json.dumps({"figure": "hard_negatives_written", "items": len(rows), "techniques": len(TEMPLATES)}))
